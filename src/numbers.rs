//! Numbers as text, written by the browser: Rust's float formatting is
//! 10 kB of the wasm (README, console size notes), and the page already
//! has JavaScript's. The text is the same as Rust's `{}` and `{:.N}`.

/// `value` with `decimals` digits after the point, as `format!("{:.N}")`
/// writes it: JavaScript's `toFixed`, which rounds an exact tie up where
/// Rust rounds it to even, corrected for those ties.
pub fn fixed(value: f64, decimals: u8) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        if let Some(text) = tie_to_even(value, decimals) {
            return text;
        }
        js_sys::Number::from(value)
            .to_fixed(decimals)
            .map(String::from)
            .unwrap_or_default()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        format!("{value:.*}", usize::from(decimals))
    }
}

/// `value` as `format!("{}")` writes it: the shortest digits that read
/// back as the same number. (JavaScript switches to an exponent beyond
/// 1e21 and below 1e-6, which coordinates and percentages never reach.)
pub fn plain(value: f64) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Number::from(value)
            .to_string_with_radix(10)
            .map(String::from)
            .unwrap_or_default()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        value.to_string()
    }
}

/// When `value` lies exactly halfway between two texts of `decimals`
/// digits, the one with the even last digit, written from integers.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn tie_to_even(value: f64, decimals: u8) -> Option<String> {
    let bits = value.abs().to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i32;
    if exponent == 0 || exponent == 0x7ff {
        return None; // zero, subnormal, infinite or NaN: never a tie here
    }
    let mantissa = (bits & ((1 << 52) - 1)) | (1 << 52);
    // |value| = mantissa · 2^power. Times 2·10^d it is mantissa · 5^d ·
    // 2^(power + d + 1), an odd integer exactly when the mantissa's
    // trailing zero bits make up for the negative power of two.
    let power = exponent - 1075;
    let shift = power + i32::from(decimals) + 1;
    if shift > 0 || mantissa.trailing_zeros() as i32 != -shift {
        return None;
    }
    // A tie is small enough to scale exactly: k + 0.5.
    let scaled = value.abs() * 10f64.powi(i32::from(decimals));
    if scaled >= 1e15 {
        return None;
    }
    let below = scaled.floor() as u64;
    let digits = (below + below % 2).to_string();
    let decimals = usize::from(decimals);
    let digits = format!("{digits:0>width$}", width = decimals + 1);
    let (whole, fraction) = digits.split_at(digits.len() - decimals);
    let sign = if value < 0.0 { "-" } else { "" };
    Some(if decimals == 0 {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn ties_round_to_even_as_rust_does() {
        for (value, decimals) in [
            (0.5, 0),
            (1.5, 0),
            (2.5, 0),
            (1.25, 1),
            (1.75, 1),
            (0.125, 2),
            (-2.5, 0),
            (-1.25, 1),
            (1024.5, 0),
        ] {
            let rust = format!("{value:.*}", usize::from(decimals));
            assert_eq!(tie_to_even(value, decimals), Some(rust), "{value}");
        }
        for (value, decimals) in [(0.45, 1), (0.35, 1), (1.2, 1), (3.0, 0), (2.675, 2)] {
            assert_eq!(tie_to_even(value, decimals), None, "{value}");
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn texts_are_rusts() {
        for value in [
            0.0, 0.05, 0.45, 1.25, 2.5, 12.34, 99.95, 1536.0, 48.04, 123.456,
        ] {
            for decimals in 0..3 {
                let rust = format!("{value:.*}", usize::from(decimals));
                assert_eq!(fixed(value, decimals), rust, "{value} to {decimals}");
            }
            assert_eq!(plain(value), value.to_string());
        }
    }
}
