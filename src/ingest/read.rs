//! Reading a batch: splits JSON Lines or one JSON array into raw records, streaming,
//! each tagged with the 1-based physical line where it starts.

use std::io::{BufRead, ErrorKind, Read};

/// The largest record accepted, in bytes.
pub const MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;

/// One record's text as read, before JSON parsing.
#[derive(Debug)]
pub struct RawRecord {
    /// 1-based physical line where the record starts.
    pub line: usize,
    /// The record's bytes, verbatim (for `--rejects`).
    pub bytes: Vec<u8>,
    /// Why the bytes cannot be a record, found while reading (too long, bad UTF-8…).
    pub defect: Option<String>,
}

/// Streams the records of a batch from any reader. An I/O error ends the stream.
pub struct BatchReader<R: BufRead> {
    input: R,
    line: usize,
    mode: Mode,
    /// Bytes consumed so far, for progress reporting.
    pub bytes_read: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Unknown,
    Lines,
    Array,
    ArrayDone,
}

impl<R: BufRead> BatchReader<R> {
    pub fn new(input: R) -> Self {
        BatchReader { input, line: 1, mode: Mode::Unknown, bytes_read: 0 }
    }

    /// The next record, `Ok(None)` at the end.
    pub fn next_record(&mut self) -> std::io::Result<Option<RawRecord>> {
        if self.mode == Mode::Unknown {
            self.detect_mode()?;
        }
        match self.mode {
            Mode::Lines => self.next_line_record(),
            Mode::Array => self.next_array_element(),
            Mode::ArrayDone | Mode::Unknown => Ok(None),
        }
    }

    /// Skips a BOM and leading whitespace, then decides: `[` starts an array file.
    fn detect_mode(&mut self) -> std::io::Result<()> {
        let buf = self.fill()?;
        if buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
            self.consume(3);
        }
        loop {
            let buf = self.fill()?;
            let Some(&byte) = buf.first() else {
                self.mode = Mode::Lines;
                return Ok(());
            };
            match byte {
                b'\n' => {
                    self.line += 1;
                    self.consume(1);
                }
                b' ' | b'\t' | b'\r' => self.consume(1),
                b'[' => {
                    self.consume(1);
                    self.mode = Mode::Array;
                    return Ok(());
                }
                _ => {
                    self.mode = Mode::Lines;
                    return Ok(());
                }
            }
        }
    }

    fn fill(&mut self) -> std::io::Result<&[u8]> {
        // Retry interrupted reads; the final call returns the buffered bytes.
        while let Err(e) = self.input.fill_buf() {
            if e.kind() != ErrorKind::Interrupted {
                return Err(e);
            }
        }
        self.input.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        self.input.consume(n);
        self.bytes_read += n as u64;
    }

    /// JSON Lines: one record per non-blank line; CRLF accepted.
    fn next_line_record(&mut self) -> std::io::Result<Option<RawRecord>> {
        loop {
            let start_line = self.line;
            let mut bytes = Vec::new();
            let mut too_long = false;
            let mut saw_newline = false;
            loop {
                let buf = self.fill()?;
                if buf.is_empty() {
                    break;
                }
                let (take, newline) = match buf.iter().position(|&b| b == b'\n') {
                    Some(i) => (i + 1, true),
                    None => (buf.len(), false),
                };
                if !too_long {
                    if bytes.len() + take > MAX_RECORD_BYTES + 2 {
                        too_long = true;
                        bytes.clear();
                    } else {
                        bytes.extend_from_slice(&buf[..take]);
                    }
                }
                self.consume(take);
                if newline {
                    saw_newline = true;
                    break;
                }
            }
            if !saw_newline && bytes.is_empty() && !too_long {
                return Ok(None);
            }
            self.line += 1;
            trim_line_ending(&mut bytes);
            if too_long {
                return Ok(Some(RawRecord {
                    line: start_line,
                    bytes,
                    defect: Some(format!("record longer than {} MiB; split the article", MAX_RECORD_BYTES >> 20)),
                }));
            }
            if bytes.iter().all(|b| b.is_ascii_whitespace()) {
                if !saw_newline {
                    return Ok(None);
                }
                continue;
            }
            let defect = check_text(&bytes);
            return Ok(Some(RawRecord { line: start_line, bytes, defect }));
        }
    }

    /// One element of a top-level JSON array, found by tracking strings and nesting.
    fn next_array_element(&mut self) -> std::io::Result<Option<RawRecord>> {
        // Skip separators before the element.
        loop {
            let buf = self.fill()?;
            let Some(&byte) = buf.first() else {
                self.mode = Mode::ArrayDone;
                return Ok(Some(RawRecord {
                    line: self.line,
                    bytes: Vec::new(),
                    defect: Some("the JSON array is not closed with ']'".into()),
                }));
            };
            match byte {
                b'\n' => {
                    self.line += 1;
                    self.consume(1);
                }
                b' ' | b'\t' | b'\r' | b',' => self.consume(1),
                b']' => {
                    self.consume(1);
                    self.mode = Mode::ArrayDone;
                    return Ok(None);
                }
                _ => break,
            }
        }
        let start_line = self.line;
        let mut bytes = Vec::new();
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        let mut too_long = false;
        loop {
            let buf = self.fill()?;
            if buf.is_empty() {
                self.mode = Mode::ArrayDone;
                return Ok(Some(RawRecord {
                    line: start_line,
                    bytes,
                    defect: Some("the file ends inside this element; the JSON array is truncated".into()),
                }));
            }
            let mut end = None;
            let mut newlines = 0;
            for (i, &b) in buf.iter().enumerate() {
                if b == b'\n' {
                    newlines += 1;
                }
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                    }
                    continue;
                }
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' if depth > 0 => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    b',' | b']' if depth == 0 => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let take = end.unwrap_or(buf.len());
            if !too_long {
                if bytes.len() + take > MAX_RECORD_BYTES {
                    too_long = true;
                    bytes.clear();
                } else {
                    bytes.extend_from_slice(&buf[..take]);
                }
            }
            self.consume(take);
            self.line += newlines;
            if end.is_some() {
                break;
            }
        }
        let defect = if too_long {
            Some(format!("record longer than {} MiB; split the article", MAX_RECORD_BYTES >> 20))
        } else {
            check_text(&bytes)
        };
        Ok(Some(RawRecord { line: start_line, bytes, defect }))
    }
}

fn trim_line_ending(bytes: &mut Vec<u8>) {
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
    }
    if bytes.last() == Some(&b'\r') {
        bytes.pop();
    }
}

/// Invalid UTF-8 or a raw control character invalidates the record (JSON forbids both
/// inside strings; outside strings only whitespace controls are allowed).
fn check_text(bytes: &[u8]) -> Option<String> {
    if let Err(err) = std::str::from_utf8(bytes) {
        return Some(format!("invalid UTF-8 at byte {} of the record; re-encode the file as UTF-8", err.valid_up_to()));
    }
    let control = bytes.iter().position(|&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t') || b == 0x7f);
    control.map(|i| format!("raw control character 0x{:02x} at byte {i} of the record; escape it as \\u00XX", bytes[i]))
}

/// Reads all of a reader into records (tests and small inputs).
pub fn read_all(input: impl Read) -> std::io::Result<Vec<RawRecord>> {
    let mut reader = BatchReader::new(std::io::BufReader::new(input));
    let mut records = Vec::new();
    while let Some(record) = reader.next_record()? {
        records.push(record);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(text: &str) -> Vec<(usize, String, bool)> {
        read_all(text.as_bytes())
            .unwrap()
            .into_iter()
            .map(|r| (r.line, String::from_utf8_lossy(&r.bytes).into_owned(), r.defect.is_some()))
            .collect()
    }

    #[test]
    fn json_lines_skip_blank_lines_and_keep_physical_line_numbers() {
        let got = lines_of("\u{feff}{\"a\":1}\r\n\n  \n{\"b\":2}\n{\"c\":3}");
        assert_eq!(
            got,
            vec![(1, "{\"a\":1}".into(), false), (4, "{\"b\":2}".into(), false), (5, "{\"c\":3}".into(), false)]
        );
    }

    #[test]
    fn array_elements_report_the_line_they_start_on() {
        let got = lines_of("[\n  {\"a\": \"x,]\"},\n  {\"b\":\n 2}\n]\n");
        assert_eq!(got, vec![(2, "{\"a\": \"x,]\"}".into(), false), (3, "{\"b\":\n 2}".into(), false)]);
    }

    #[test]
    fn a_truncated_array_is_a_defect_not_a_hang() {
        let got = lines_of("[{\"a\": 1}, {\"b\": ");
        assert_eq!(got.len(), 2);
        assert!(got[1].2);
    }

    #[test]
    fn invalid_utf8_and_control_characters_invalidate_one_record() {
        let records = read_all(&b"{\"a\":\"\xff\"}\n{\"b\":\"\x01\"}\n{\"c\":1}\n"[..]).unwrap();
        assert!(records[0].defect.is_some());
        assert!(records[1].defect.is_some());
        assert!(records[2].defect.is_none());
    }
}
