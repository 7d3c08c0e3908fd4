//! Times and byte counts for people.

/// An RFC 3339 UTC time for people, to the second: `2026-11-26 06:05:15 UTC`.
/// Anything else is shown as it came.
pub fn format_time(rfc3339: &str) -> String {
    match rfc3339.split_once('T') {
        Some((date, time)) if rfc3339.ends_with('Z') => {
            let time = time.trim_end_matches('Z');
            let seconds = time.split('.').next().unwrap_or(time);
            format!("{date} {seconds} UTC")
        }
        _ => rfc3339.to_owned(),
    }
}

/// A byte count for people: `0 B`, `1.5 KB`, `12 MB`.
pub fn format_bytes(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes.max(0.0);
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let decimals = if unit == 0 || value >= 100.0 { 0 } else { 1 };
    format!("{} {}", crate::numbers::fixed(value, decimals), UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn times_read_to_the_second() {
        assert_eq!(
            format_time("2026-11-26T06:05:15.553996777Z"),
            "2026-11-26 06:05:15 UTC"
        );
        assert_eq!(
            format_time("2026-11-26T06:05:15Z"),
            "2026-11-26 06:05:15 UTC"
        );
        assert_eq!(format_time("yesterday"), "yesterday");
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn bytes_read_like_people_write_them() {
        assert_eq!(format_bytes(0.0), "0 B");
        assert_eq!(format_bytes(13.0), "13 B");
        assert_eq!(format_bytes(1536.0), "1.5 KB");
        assert_eq!(format_bytes(512.0 * 1024.0), "512 KB");
        assert_eq!(format_bytes(3.0 * 1024.0 * 1024.0 * 1024.0), "3.0 GB");
    }
}
