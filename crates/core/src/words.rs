//! How the product's texts count things, shared by the server's messages
//! and the console's, so both say "1 cache" and "2 caches" alike.

/// `count` of `noun`, the noun in the plural unless there is one:
/// "1 cache", "2 caches", "0 caches".
pub fn count(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_named_in_the_singular_and_every_other_count_in_the_plural() {
        assert_eq!(count(0, "cache"), "0 caches");
        assert_eq!(count(1, "cache"), "1 cache");
        assert_eq!(count(2, "firewall rule"), "2 firewall rules");
    }
}
