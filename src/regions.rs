//! The Azure regions, compiled in from georep-core's table by `build.rs`:
//! a static array, looked up without allocating, instead of JSON parsed at
//! start (`georep_core::regions` does that, which is right for the server
//! but costs the console size and start-up time).

/// One Azure region, as the map and the labels need it.
#[derive(Debug, PartialEq)]
pub struct Region {
    /// The ARM location name, e.g. `westeurope`.
    pub name: &'static str,
    /// The human name, e.g. `West Europe`.
    pub display_name: &'static str,
    /// Latitude in degrees.
    pub latitude: f64,
    /// Longitude in degrees.
    pub longitude: f64,
}

static REGIONS: &[Region] = &include!(concat!(env!("OUT_DIR"), "/regions.rs"));

/// Every Azure region, in the table's order.
pub fn all() -> &'static [Region] {
    REGIONS
}

/// Whether `location` spells `name` (ARM's form: lower case, no spaces),
/// ignoring case and whitespace.
fn spells(location: &str, name: &str) -> bool {
    let mut wanted = location
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase());
    let mut have = name
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase());
    loop {
        match (wanted.next(), have.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

/// Looks a region up by ARM name or display name, ignoring case and spaces.
pub fn find(location: &str) -> Option<&'static Region> {
    REGIONS
        .iter()
        .find(|r| r.name == location)
        .or_else(|| REGIONS.iter().find(|r| spells(location, r.name)))
}

/// The ARM form of a location: its region's name, else lower case without
/// spaces ("West Europe" → "westeurope").
pub fn normalize(location: &str) -> String {
    match find(location) {
        Some(region) => region.name.to_owned(),
        None => location
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_lowercase())
            .collect(),
    }
}

/// The display name of a location, or the location itself when unknown.
pub fn display_name(location: &str) -> String {
    find(location).map_or_else(|| location.to_owned(), |r| r.display_name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn the_compiled_table_matches_georep_core() {
        assert_eq!(all().len(), georep_core::regions::all().len());
        for (ours, theirs) in all().iter().zip(georep_core::regions::all()) {
            assert_eq!(ours.name, theirs.name);
            assert_eq!(ours.display_name, theirs.display_name);
            assert_eq!(ours.latitude, theirs.latitude);
            assert_eq!(ours.longitude, theirs.longitude);
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn finds_any_spelling() {
        let by_name = find("westeurope").unwrap();
        assert_eq!(by_name.display_name, "West Europe");
        assert_eq!(find("West Europe"), Some(by_name));
        assert_eq!(find(" west EUROPE "), Some(by_name));
        assert!(find("atlantis").is_none());
        assert!(find("westeurope2").is_none());
        assert_eq!(normalize("North Europe"), "northeurope");
        assert_eq!(display_name("atlantis"), "atlantis");
    }
}
