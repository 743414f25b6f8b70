"""Drives the explorer in a real headless Chromium (Debian's, never a downloaded build) and
prints one JSON object of verdicts: {"check name": {"ok": bool, "detail": ...}, ...}.

Usage: explorer_browser.py URL_WITH_TOKEN SCREENSHOT_DIR XSS_ENTITY_NAME
Run by tests/explorer.rs against a real `diplograph serve`; every check is bounded by
timeouts so a broken page fails in seconds instead of hanging.
"""

import json
import sys
import urllib.parse
import urllib.request

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
GIFT_QUERY = (
    "MATCH (g:Gift)-[gv:GIVER]->(a), (g)-[rc:RECIPIENT]->(b), (g)-[it:ITEM]->(i)\n"
    "RETURN a.name AS giver, i.name AS item, b.name AS recipient, g, gv, a, rc, b, it, i\n"
    "ORDER BY giver, item, recipient"
)
TIMEOUT_MS = 10_000

url, shots, xss_name = sys.argv[1], sys.argv[2], sys.argv[3]
base = url.split("#", 1)[0].rstrip("/")
token = urllib.parse.parse_qs(url.split("#", 1)[1])["token"][0] if "#token=" in url else None
verdicts = {}


def verdict(name, ok, detail=None):
    verdicts[name] = {"ok": bool(ok), "detail": detail}


def api_query(query):
    """The same query over the HTTP API, for the counts the page must show."""
    request = urllib.request.Request(
        f"{base}/api/query", data=json.dumps({"query": query}).encode(), method="POST",
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def expected_columns_index(page, name):
    """The index of a column in the table the page drew."""
    return page.eval_on_selector_all("#table-pane thead th", "ths => ths.map(th => th.textContent)").index(name)


def node_count(page):
    return int(page.get_attribute("#graph", "data-node-count") or "-1")


def canvas_ink(page):
    """How many pixels of the graph's canvases are painted (not transparent, not white)."""
    return page.evaluate("""() => {
        let ink = 0;
        for (const canvas of document.querySelectorAll('#graph canvas')) {
            if (!canvas.width || !canvas.height) continue;
            const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            for (let i = 0; i < data.length; i += 4) {
                if (data[i + 3] > 0 && (data[i] < 240 || data[i + 1] < 240 || data[i + 2] < 240)) ink++;
            }
        }
        return ink;
    }""")


def run_query(page, query):
    page.click(".tab[data-view=query]")
    page.evaluate("q => window.explorer.setQuery(q)", query)
    page.click("#query + .CodeMirror")
    page.keyboard.press("Control+Enter")


def main():
    console, page_errors = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(TIMEOUT_MS)
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        # Recorded before any page script runs: a violation of the server's CSP by the
        # explorer's own code, and any script that stored text might smuggle in.
        page.add_init_script("""
            window.__csp = [];
            document.addEventListener('securitypolicyviolation',
                e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
        """)

        # 1. The explorer loads and takes the token out of the address bar.
        page.goto(url)
        page.wait_for_selector(".CodeMirror")
        page.wait_for_function("() => window.explorer && window.explorer.ready")
        verdict("loads", page.title() == "diplograph explorer", page.title())
        verdict("token leaves the address bar", "token" not in page.evaluate("location.href"), page.evaluate("location.href"))

        # 1b. The page's own modules: CSV quoting (RFC 4180) and date ranges at each precision.
        units = page.evaluate("""async () => {
            const table = await import('/assets/js/table.js');
            const values = await import('/assets/js/values.js');
            const day = Date.UTC(2023, 8, 13);
            const range = { from: day, to: day };
            return {
                csv: table.rowsToCsv(['a', 'b'], [['x,"y"\\nz', null], [[1, 2], {k: 1}]]),
                in: ['2023', '2023-09', '2023-09-13'].map(d => values.dateInRange(d, range)),
                out: ['2022', '2023-10', '2023-09-12', null, 'soon'].map(d => values.dateInRange(d, range)),
            };
        }""")
        verdict("csv quoting and date ranges",
                units["csv"] == 'a,b\r\n"x,""y""\nz",\r\n"1, 2","{""k"":1}"\r\n' and all(units["in"]) and not any(units["out"]), units)

        # 1c. A result too large to draw is drawn in part, quickly, and says how much was left out.
        large = page.evaluate("""async () => {
            const { GraphView, MAX_DRAWN_NODES } = await import('/assets/js/graph.js');
            const box = document.createElement('div');
            box.style.width = '400px';  // CSSOM, which the CSP allows (a style attribute it would not)
            box.style.height = '300px';
            document.body.append(box);
            const view = new GraphView(box, { api: null, onSelect() {}, onExpand() {}, onError() {} });
            const nodes = Array.from({ length: MAX_DRAWN_NODES + 100 }, (_, i) => ({ elementId: `n:${i}`, labels: ['Person'], properties: { name: `p${i}` } }));
            const relationships = nodes.slice(1).map((node, i) => ({ elementId: `r:${i}`, type: 'KNOWS', startNodeElementId: 'n:0', endNodeElementId: node.elementId, properties: {} }));
            const started = performance.now();
            const left = view.show({ nodes, relationships });
            const ms = performance.now() - started;
            const drawn = view.cy.nodes().length;
            view.cy.destroy();
            box.remove();
            return { left, drawn, max: MAX_DRAWN_NODES, ms };
        }""")
        verdict("large result drawn in part", large["left"] == 100 and large["drawn"] == large["max"] and large["ms"] < 8000, large)

        # 2. "Who gave what to whom" runs and draws its graph.
        expected = api_query(GIFT_QUERY)
        expected_nodes = len(expected["graph"]["nodes"])
        run_query(page, GIFT_QUERY)
        page.wait_for_function(f"() => Number(document.querySelector('#graph').dataset.nodeCount) === {expected_nodes}")
        page.wait_for_timeout(300)
        verdict("graph node count", node_count(page) == expected_nodes, {"drawn": node_count(page), "api": expected_nodes})
        captions = page.evaluate("""() => window.explorer.cy.nodes().map(n => [n.data('caption'), n.data('node').properties, n.data('label'), n.style('background-color')])""")
        names_shown = all(caption == props.get("name") for caption, props, _, _ in captions if "name" in props)
        no_ids = not any(caption == props.get("id") for caption, props, _, _ in captions)
        colours = {label: colour for _, _, label, colour in captions}
        edge_labels = sorted(set(page.evaluate("() => window.explorer.cy.edges().map(e => e.style('label'))")))
        verdict("captions are names, colours by label", names_shown and no_ids and len(set(colours.values())) == len(colours) >= 3, colours)
        verdict("edges carry their type", edge_labels == ["GIVER", "ITEM", "RECIPIENT"], edge_labels)
        ink = canvas_ink(page)
        verdict("graph canvas not blank", ink > 2000, {"painted_pixels": ink})

        # 3. The table holds the same rows.
        page.click(".result-tab[data-pane=table]")
        rows = page.locator("#table-pane tbody tr")
        giver = expected["columns"].index("giver")
        first = page.locator("#table-pane tbody tr").first.locator("td").nth(giver).text_content()
        verdict("table rows", rows.count() == len(expected["rows"]), {"shown": rows.count(), "api": len(expected["rows"]), "first": first})
        verdict("table giver first row", first == expected["rows"][0][expected["columns"].index("giver")], first)
        page.screenshot(path=f"{shots}/explorer-table.png")
        page.click(".result-tab[data-pane=graph]")

        # 4. Brushing the result timeline over 2023 keeps the 2023 gifts only: the graph shrinks.
        before = node_count(page)
        page.locator("#result-timeline").scroll_into_view_if_needed()
        box = page.locator("#result-timeline svg").bounding_box()
        left, right = page.evaluate("""() => {
            const marks = [...document.querySelectorAll('#result-timeline .mark')];
            const xs = marks.map(m => m.getBoundingClientRect()).map(r => r.x + r.width / 2);
            return [Math.min(...xs), Math.max(...xs)];
        }""")
        y = box["y"] + box["height"] / 3
        page.mouse.move(left - 10, y)
        page.mouse.down()
        page.mouse.move((left + right) / 2, y, steps=5)
        page.mouse.up()
        page.wait_for_function(f"() => Number(document.querySelector('#graph').dataset.nodeCount) < {before}")
        after = node_count(page)
        page.click(".result-tab[data-pane=table]")
        brushed_rows = page.locator("#table-pane tbody tr").count()
        page.click(".result-tab[data-pane=graph]")
        gift = expected["columns"].index("g")
        in_2023 = sum(1 for row in expected["rows"] if row[gift]["properties"]["date"].startswith("2023"))
        verdict("brush shrinks the graph", 0 < after < before, {"before": before, "after": after})
        verdict("brush filters the table", brushed_rows == in_2023, {"rows": brushed_rows, "expected": in_2023})
        page.screenshot(path=f"{shots}/explorer-timeline-brush.png")
        page.mouse.click(left - 10, y)  # a click without a drag clears the brush
        page.wait_for_function(f"() => Number(document.querySelector('#graph').dataset.nodeCount) === {before}")

        # 5. Double-click expands a node's neighbours; undo removes exactly them.
        x, y = page.evaluate("""() => {
            const cy = window.explorer.cy;
            const node = cy.nodes().filter(n => n.data('caption') === 'Kim Jong Un')[0];
            const box = cy.container().getBoundingClientRect();
            const p = node.renderedPosition();
            return [box.x + p.x, box.y + p.y];
        }""")
        page.mouse.dblclick(x, y)
        page.wait_for_function(f"() => Number(document.querySelector('#graph').dataset.nodeCount) > {before}")
        expanded = node_count(page)
        page.click("#undo-expand")
        page.wait_for_function(f"() => Number(document.querySelector('#graph').dataset.nodeCount) === {before}")
        verdict("expand and undo", expanded > before and node_count(page) == before, {"before": before, "expanded": expanded, "undone": node_count(page)})

        # 5a'. The expand cap bounds what one double-click adds, and says when more exist.
        page.fill("#expand-cap", "2")
        page.dispatch_event("#expand-cap", "change")
        page.mouse.dblclick(x, y)
        page.wait_for_function(f"() => Number(document.querySelector('#graph').dataset.nodeCount) > {before}")
        capped = node_count(page) - before
        capped_status = page.text_content("#graph-status")
        page.click("#undo-expand")
        page.fill("#expand-cap", "25")
        page.dispatch_event("#expand-cap", "change")
        verdict("expand cap", 0 < capped <= 2 and "capped at 2" in capped_status, {"added": capped, "status": capped_status})

        # 5b. Exports: the rows as CSV and JSON, the picture as PNG and SVG.
        def downloaded(button):
            with page.expect_download() as info:
                page.click(button)
            with open(info.value.path(), "rb") as handle:
                return handle.read()
        csv_lines = downloaded("#export-csv").decode().strip().split("\r\n")
        verdict("export CSV", len(csv_lines) == len(expected["rows"]) + 1 and csv_lines[0].startswith("giver,item,recipient"), csv_lines[:2])
        exported = json.loads(downloaded("#export-json"))
        verdict("export JSON", len(exported) == len(expected["rows"]) and all("giver" in row for row in exported), exported[:1])
        png = downloaded("#export-png")
        verdict("export PNG", png.startswith(b"\x89PNG") and len(png) > 5000, len(png))
        svg = downloaded("#export-svg").decode()
        verdict("export SVG", svg.startswith("<svg") and svg.count("<text") >= expected_nodes and "Kim Jong Un" in svg, svg[:120])

        # 5c. Click selects and highlights a node's neighbours; pin locks it; hide and show.
        page.mouse.click(x, y)
        page.wait_for_function("() => window.explorer.cy.$('.faded').length > 0")
        inspected = page.text_content("#inspector h3")
        page.click("#pin")
        pinned = page.evaluate("() => window.explorer.cy.$(':selected')[0].locked()")
        page.click("#pin")
        unpinned = not page.evaluate("() => window.explorer.cy.$(':selected')[0].locked()")
        page.click("#hide")
        hidden = node_count(page)
        page.click("#show-hidden")
        page.screenshot(path=f"{shots}/explorer-graph.png")  # Kim Jong Un selected, neighbours highlighted
        verdict("highlight, pin, hide", inspected == "Kim Jong Un" and pinned and unpinned and hidden == before - 1 and node_count(page) == before,
                {"inspector": inspected, "pinned": pinned, "unpinned": unpinned, "after_hide": hidden, "after_show": node_count(page)})

        # 5d. A result cut at max rows says so.
        page.fill("#max-rows", "2")
        run_query(page, GIFT_QUERY)
        page.wait_for_selector("#truncated:not([hidden])")
        banner = page.text_content("#truncated")
        verdict("truncated banner", "truncated at 2 rows" in banner, banner)
        page.fill("#max-rows", "1000")

        # 5e. A syntax error is shown with its line, column and caret, and marked in the editor.
        run_query(page, "MATCH (n:Person RETURN n")
        page.wait_for_selector("#query-error:not([hidden])")
        error = page.text_content("#query-error")
        marked = page.locator(".cm-error-at").count()
        verdict("error with caret", "^" in error and "column" in error and marked == 1, {"error": error, "marked": marked})

        # 5f. Parameters, completion from the schema, history, explain.
        page.click("#parameters-box summary")
        page.fill("#parameters", "{oops")
        run_query(page, "MATCH (p:Person {name: $name}) RETURN p.name AS name")
        page.wait_for_selector("#query-error:not([hidden])")
        bad_parameters = page.text_content("#query-error")
        verdict("bad parameters are an error", bad_parameters.startswith("parameters: not valid JSON"), bad_parameters)
        page.fill("#parameters", '{"name": "Kim Jong Un"}')
        page.press("#parameters", "Control+Enter")
        page.wait_for_function("() => document.querySelector('#result-status').textContent.startsWith('1 row')")
        named = page.locator("#table-pane tbody td").first.text_content()
        verdict("parameters", named == "Kim Jong Un", named)
        in_table = page.is_visible("#table-pane") and not page.is_visible("#graph-pane")
        page.fill("#parameters", "{}")
        run_query(page, GIFT_QUERY)
        page.wait_for_function(f"() => Number(document.querySelector('#graph').dataset.nodeCount) === {expected_nodes}")
        verdict("rows without nodes open in the table", in_table and page.is_visible("#graph-pane"), {"in_table": in_table})
        page.fill("#parameters", "{}")
        page.evaluate("q => window.explorer.setQuery(q)", "MATCH (n")
        page.click("#query + .CodeMirror")
        page.keyboard.press("Control+End")
        page.keyboard.type(":Gi")
        page.wait_for_selector(".CodeMirror-hints")
        hints = page.locator(".CodeMirror-hints li").all_text_contents()
        page.keyboard.press("Escape")
        verdict("completion from the schema", "Gift" in hints, hints)
        history_items = page.locator("#history option").count() - 1
        verdict("history kept", history_items >= 3, history_items)
        page.evaluate("q => window.explorer.setQuery(q)", GIFT_QUERY)
        page.click("#explain")
        page.wait_for_selector("#plan:not([hidden])")
        plan = page.text_content("#plan")
        verdict("explain shows the plan", len(plan.strip()) > 10, plan[:200])

        # 5f'. A slow query can be cancelled, and a timeout asked for is the server's to enforce.
        # Grouped by a key, so the count is not computed from the parts' counts (CountProduct).
        slow = "MATCH (a), (b), (c), (d), (e) RETURN a.id AS a, count(*) AS n"
        page.evaluate("q => window.explorer.setQuery(q)", slow)
        page.click("#run")
        page.wait_for_selector("#cancel:not([hidden])")
        page.click("#cancel")
        page.wait_for_selector("#query-error:not([hidden])")
        cancelled = page.text_content("#query-error")
        run_enabled = page.is_enabled("#run")
        verdict("cancel a running query", "cancelled" in cancelled and run_enabled and not page.is_visible("#cancel"), cancelled)
        page.fill("#timeout", "1")
        page.click("#run")
        page.wait_for_selector("#query-error:not([hidden])", timeout=20_000)
        timed_out = page.text_content("#query-error")
        page.fill("#timeout", "")
        verdict("timeout reported", "time" in timed_out.lower(), timed_out)

        # 5g. A saved query survives a reload (the token too: it stays in sessionStorage).
        page.evaluate("q => window.explorer.setQuery(q)", GIFT_QUERY)
        page.fill("#save-name", "gifts")
        page.click("#save")
        page.reload()
        page.wait_for_function("() => window.explorer && window.explorer.ready")
        saved_names = page.locator("#saved option").all_text_contents()
        page.select_option("#saved", label="gifts")
        reloaded_query = page.evaluate("() => document.querySelector('.CodeMirror').CodeMirror.getValue()")
        token_box = page.is_visible("#token-box")
        verdict("saved query after reload", "gifts" in saved_names and reloaded_query == GIFT_QUERY and not token_box,
                {"saved": saved_names, "token_asked": token_box})
        # 5h. Every query under Examples runs and answers rows.
        example_rows = {}
        for name in page.locator("#examples option").all_text_contents()[1:]:
            page.select_option("#examples", label=name)
            page.evaluate("() => document.querySelector('#result-status').textContent = ''")
            page.click("#run")
            page.wait_for_function("() => /rows?$|rows? \\(/.test(document.querySelector('#result-status').textContent) || !document.querySelector('#query-error').hidden")
            status = page.text_content("#result-status")
            example_rows[name] = status if page.is_hidden("#query-error") else page.text_content("#query-error")
        verdict("examples run", len(example_rows) >= 3 and all(v.endswith("rows") and not v.startswith("0 ") for v in example_rows.values()), example_rows)

        run_query(page, GIFT_QUERY)
        page.wait_for_function(f"() => Number(document.querySelector('#graph').dataset.nodeCount) === {expected_nodes}")

        # 6. Kim Jong Un's entity page shows an Indonesian evidence quote with its article.
        page.click(".tab[data-view=entity]")
        page.fill("#entity-name", "Kim Jong Un")
        page.press("#entity-name", "Enter")
        page.wait_for_selector("#entity-results button")
        page.locator("#entity-results button", has_text="Kim Jong Un").first.click()
        page.wait_for_function("() => document.querySelector('#entity-title') && document.querySelector('#entity-title').textContent === 'Kim Jong Un'")
        quotes = page.locator("blockquote.evidence[lang=id]")
        texts = quotes.all_text_contents()
        verdict("entity page Indonesian quote", any("berjabat tangan" in text for text in texts), texts[:3])
        # The report quoted in Indonesian names its outlet, date and language beside the quote.
        indopos = page.locator("li.report", has=page.locator("blockquote.evidence[lang=id]")).first.locator(".report-head").text_content()
        according = page.locator("li.report .according").all_text_contents()
        verdict("report shows outlet, date, language, according_to",
                "Indopos" in indopos and "2023-09-15" in indopos and "· id" in indopos and "according to Dmitry Peskov" in according,
                {"head": indopos, "according": according[:5]})
        link = page.locator("li.report a").first.get_attribute("href")
        verdict("report links the article", bool(link) and link.startswith("https://"), link)
        dates = page.eval_on_selector_all("li.event", "items => items.map(i => i.dataset.date).filter(Boolean)")
        verdict("entity events in date order", dates == sorted(dates), dates)
        page.screenshot(path=f"{shots}/explorer-entity.png", full_page=False)
        # Brushing the entity's timeline over its last events hides the others from its list.
        xs = page.eval_on_selector_all("#entity-timeline .mark", "ms => ms.map(m => m.getBoundingClientRect()).map(r => r.x + r.width / 2)")
        box = page.locator("#entity-timeline svg").bounding_box()
        page.mouse.move(max(xs) - 30, box["y"] + 10)
        page.mouse.down()
        page.mouse.move(max(xs) + 8, box["y"] + 10, steps=4)
        page.mouse.up()
        shown = page.locator("li.event:visible").count()
        total = page.locator("li.event").count()
        page.mouse.click(max(xs) - 30, box["y"] + 10)
        verdict("entity timeline brush filters its events", 0 < shown < total and page.locator("li.event:visible").count() == total, {"shown": shown, "total": total})
        # A role filler links to its own page; the back button returns to Kim Jong Un's.
        page.locator("#entity-detail ul.roles button.link", has_text="Vladimir Putin").first.click()
        page.wait_for_function("() => document.querySelector('#entity-title').textContent === 'Vladimir Putin'")
        page.go_back()
        page.wait_for_function("() => document.querySelector('#entity-title').textContent === 'Kim Jong Un'")
        address = page.evaluate("location.hash")
        verdict("back returns to the previous entity", "entity=person%3Akim-jong-un" in address and "token" not in address, address)
        page.click("#entity-detail button:has-text('Open in graph')")
        page.wait_for_function("() => document.querySelector('#result-status').textContent.match(/^[0-9]+ rows/)")
        page.wait_for_function("() => Number(document.querySelector('#graph').dataset.nodeCount) > 1")
        neighbourhood = node_count(page)
        verdict("entity opens in the graph", neighbourhood > 5 and page.is_visible("#graph"), neighbourhood)

        # 7. The store timeline draws every dated event.
        page.click(".tab[data-view=timeline]")
        page.wait_for_selector("#store-timeline .mark, #store-timeline .bar")
        marks = page.locator("#store-timeline .mark, #store-timeline .bar").count()
        statuses = page.eval_on_selector_all("#store-timeline .mark", "ms => [...new Set(ms.map(m => m.getAttribute('class')))]")
        verdict("store timeline", marks > 0 and any("planned" in s for s in statuses) and any("occurred" in s for s in statuses), {"marks": marks, "classes": statuses})
        # Brushing the store timeline from 2023 on lists that range's events.
        xs = page.eval_on_selector_all("#store-timeline .mark", "ms => ms.map(m => m.getBoundingClientRect()).map(r => r.x + r.width / 2)")
        box = page.locator("#store-timeline svg").bounding_box()
        y = box["y"] + 10
        page.mouse.move(max(xs) - 60, y)
        page.mouse.down()
        page.mouse.move(max(xs) + 8, y, steps=5)
        page.mouse.up()
        page.wait_for_selector("#timeline-events li")
        listed = page.locator("#timeline-events li").count()
        verdict("store timeline brush lists events", 0 < listed < marks, {"listed": listed, "marks": marks})
        page.screenshot(path=f"{shots}/explorer-timeline.png")

        # 7b. Bucketed: with a bucket asked for, lanes of bars and a status lane.
        page.select_option("#timeline-bucket", "month")
        page.click("#timeline-form button[type=submit]")
        page.wait_for_selector("#store-timeline .bar")
        bars = page.eval_on_selector_all("#store-timeline .bar", "bs => [...new Set(bs.map(b => b.getAttribute('class')))]")
        verdict("bucketed timeline", any("status-planned" in b for b in bars) and any("status-occurred" in b for b in bars), bars)
        page.select_option("#timeline-bucket", "auto")

        # 7c. A plan shows the event that fulfilled it, from the store's derived FULFILLED_BY
        # links: in the example, Kim Jong Un's accepted invitation of Putin to Pyongyang is
        # fulfilled by the visit of 2024-06-19 (and that visit says what it fulfils).
        page.click(".tab[data-view=entity]")
        page.fill("#entity-name", "Kim Jong Un")
        page.press("#entity-name", "Enter")
        page.locator("#entity-results button", has_text="Kim Jong Un").first.click()
        page.wait_for_function("() => document.querySelector('#entity-title').textContent.startsWith('Kim Jong Un')")
        page.wait_for_selector("#entity-detail .fulfil")
        fulfil_texts = page.locator("#entity-detail .fulfil").all_text_contents()
        verdict("planned visit shows its fulfilling visit",
                any("Fulfilled by" in t and "visit 2024-06-19" in t for t in fulfil_texts)
                and any(t.startswith("Fulfils") and "invitation" in t for t in fulfil_texts), fulfil_texts)

        # 8. An article whose title, quote and entity name hold HTML and script runs nothing.
        page.click(".tab[data-view=entity]")
        page.fill("#entity-name", "Mallory")
        page.press("#entity-name", "Enter")
        page.locator("#entity-results button", has_text="Mallory").first.click()
        page.wait_for_function("() => document.querySelector('#entity-title').textContent.startsWith('Mallory')")
        page.wait_for_selector("blockquote.evidence")
        title = page.text_content("#entity-title")
        quote = page.text_content("blockquote.evidence")
        injected = page.evaluate("() => document.querySelectorAll('#entity-detail img, #entity-detail script, #entity-detail b, #entity-results b').length")
        report = page.locator("li.report").first
        report_links = report.locator("a").count()
        run_query(page, "MATCH (a:Article) WHERE a.outlet = 'Evil Times' RETURN a.title AS title, a")
        page.wait_for_function("() => document.querySelector('#result-status').textContent.startsWith('1 row')")
        page.click(".result-tab[data-pane=table]")
        cell = page.locator("#table-pane tbody td").nth(expected_columns_index(page, "title")).text_content()
        inspector_injected = page.evaluate("() => document.querySelectorAll('#table-pane img, #table-pane script, #table-pane b').length")
        page.click(".result-tab[data-pane=graph]")
        page.wait_for_timeout(300)
        ran = page.evaluate("() => window.__xss || null")
        verdict("stored HTML is shown as text",
                title == xss_name and "<script>" in quote and "<img" in cell and injected == 0 and inspector_injected == 0,
                {"title": title, "quote": quote, "cell": cell, "injected_elements": injected + inspector_injected})
        verdict("a javascript: URL is not a link", report_links == 0, {"links": report_links})
        verdict("stored script never runs", ran is None, ran)

        # 9. Opened without the token (a new tab: nothing in sessionStorage), the page asks for it.
        other = browser.new_page()
        other.set_default_timeout(TIMEOUT_MS)
        other.goto(base + "/")
        other.wait_for_selector("#token-box:not([hidden])")
        other.fill("#token-input", token or "")
        other.click("#token-box button[type=submit]")
        other.wait_for_selector("#token-box", state="hidden")
        other.wait_for_function("() => window.explorer && window.explorer.ready && document.querySelector('#server-info').textContent !== ''")
        verdict("asks for a missing token", not other.is_visible("#message"), other.text_content("#server-info"))
        other.close()

        csp = page.evaluate("() => window.__csp")
        csp_console = [line for line in console if "Content Security Policy" in line or "Content-Security-Policy" in line]
        verdict("no CSP violations", not csp and not csp_console, {"events": csp, "console": csp_console})
        verdict("no page errors", not page_errors, page_errors)
        browser.close()


try:
    main()
except Exception as error:  # a failed wait is a verdict, printed with what was seen so far
    verdict("driver finished", False, f"{type(error).__name__}: {error}")
print(json.dumps(verdicts))
