//! Compiles georep-core's region table (`crates/core/data/azure-regions.json`)
//! into a Rust array, so the console ships neither the JSON nor the code to
//! parse it at start.

use std::fmt::Write as _;
use std::path::Path;

const TABLE: &str = "crates/core/data/azure-regions.json";

fn main() {
    println!("cargo:rerun-if-changed={TABLE}");
    println!("cargo:rerun-if-changed=build.rs");
    let text = std::fs::read_to_string(TABLE).expect("reading the region table");
    let regions: Vec<serde_json::Value> =
        serde_json::from_str(&text).expect("the region table is a JSON array");
    let mut out = String::from("[\n");
    for region in &regions {
        let text = |key: &str| {
            region[key]
                .as_str()
                .unwrap_or_else(|| panic!("a region without {key}"))
                .to_owned()
        };
        let number = |key: &str| {
            region[key]
                .as_f64()
                .unwrap_or_else(|| panic!("a region without {key}"))
        };
        writeln!(
            out,
            "    Region {{ name: {:?}, display_name: {:?}, latitude: {:?}, longitude: {:?} }},",
            text("name"),
            text("displayName"),
            number("latitude"),
            number("longitude"),
        )
        .expect("writing to a String");
    }
    out.push(']');
    let dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&dir).join("regions.rs"), out).expect("writing regions.rs");
}
