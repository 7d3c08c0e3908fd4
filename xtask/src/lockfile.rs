//! Reading package versions out of `Cargo.lock`.
//!
//! Only the tiny part of the format we need: `[[package]]` tables with
//! `name = "…"` and `version = "…"` lines.

use std::fs;

use anyhow::{bail, Context, Result};

use crate::project;

/// The single version of `package` locked in the workspace's `Cargo.lock`.
pub fn locked_version(package: &str) -> Result<String> {
    let path = project::root().join("Cargo.lock");
    let text = fs::read_to_string(&path)
        .with_context(|| format!("cannot read {} (run any cargo build first)", path.display()))?;
    version_in(&text, package).with_context(|| format!("in {}", path.display()))
}

/// The single version of `package` in the text of a `Cargo.lock`.
fn version_in(lock: &str, package: &str) -> Result<String> {
    let mut versions: Vec<String> = packages(lock)
        .filter(|(name, _)| *name == package)
        .map(|(_, version)| version.to_owned())
        .collect();
    versions.dedup();
    match versions.as_slice() {
        [version] => Ok(version.clone()),
        [] => bail!("package `{package}` is not locked"),
        many => bail!("package `{package}` is locked at several versions: {many:?}"),
    }
}

/// Every `(name, version)` pair, in file order.
fn packages(lock: &str) -> impl Iterator<Item = (&str, &str)> {
    lock.split("[[package]]").skip(1).filter_map(|table| {
        let name = field(table, "name")?;
        let version = field(table, "version")?;
        Some((name, version))
    })
}

/// The string value of `key = "value"` in one table.
fn field<'a>(table: &'a str, key: &str) -> Option<&'a str> {
    table.lines().find_map(|line| {
        let (k, v) = line.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 4

[[package]]
name = "wasm-bindgen"
version = "0.2.130"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = [
 "wasm-bindgen-macro",
]

[[package]]
name = "wasm-bindgen-macro"
version = "0.2.130"

[[package]]
name = "syn"
version = "1.0.109"

[[package]]
name = "syn"
version = "2.0.100"
"#;

    #[test]
    fn finds_the_exact_package() {
        assert_eq!(version_in(LOCK, "wasm-bindgen").unwrap(), "0.2.130");
    }

    #[test]
    fn refuses_missing_or_ambiguous_packages() {
        assert!(version_in(LOCK, "trunk").is_err());
        assert!(version_in(LOCK, "syn").is_err());
    }
}
