//! The README's mapping tables are generated from `schema/import-mapping.json`: this test
//! fails when the two disagree. `DIPLOGRAPH_UPDATE_README=1 cargo test --test
//! import_mapping_table` rewrites the README's section from the schema.

use diplograph::import::Mapping;
use diplograph::ontology::Ontology;

const START: &str = "<!-- mapping tables: generated from schema/import-mapping.json; do not edit by hand -->\n";
const END: &str = "<!-- end of mapping tables -->";

#[test]
fn the_readme_mapping_tables_match_the_schema_file() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).expect("read README.md");
    let generated = Mapping::embedded(Ontology::embedded()).expect("the built-in mapping reads").markdown_tables();
    let start = readme.find(START).expect("README.md has the mapping-tables start marker") + START.len();
    let end = start + readme[start..].find(END).expect("README.md has the mapping-tables end marker");
    if std::env::var("DIPLOGRAPH_UPDATE_README").as_deref() == Ok("1") {
        let updated = format!("{}{generated}{}", &readme[..start], &readme[end..]);
        std::fs::write(path, updated).expect("write README.md");
        return;
    }
    assert!(
        readme[start..end] == generated,
        "README.md's mapping tables differ from schema/import-mapping.json; run \
         DIPLOGRAPH_UPDATE_README=1 cargo test --test import_mapping_table and review the diff"
    );
}
