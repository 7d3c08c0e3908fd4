//! Loopback addresses, as Azure gives each cache a virtual IP.
//!
//! Linux routes all of 127.0.0.0/8 to `lo`, and any address in it can be
//! bound without configuration. So every node, every cache and every
//! geo-primary URL gets an address of its own, always on port 6379, and a
//! cache's address (or a geo-primary address) moves by changing which
//! `redis-server` has it in its `bind` list. No port is ever picked by
//! binding port 0.
//!
//! A server takes a block of 65,534 addresses, `127.B.0.0/16`, keeps `B` in
//! its store, and holds a claim on the block while it runs (a listener on
//! the block's last address), so servers started side by side on one
//! machine, such as parallel tests, take different blocks. An address that
//! turns out to be bound by someone else is skipped when it is handed out,
//! and the caller asks for another one if binding it fails anyway.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};

use rand::Rng;

pub use crate::store::records::{REDIS_PORT, TLS_PORT};

/// How many blocks a server tries before giving up.
const CLAIM_ATTEMPTS: usize = 64;

/// The address `addr` on [`REDIS_PORT`].
pub fn socket(addr: Ipv4Addr) -> SocketAddr {
    SocketAddr::from((addr, REDIS_PORT))
}

/// What can go wrong taking a block.
#[derive(Debug, thiserror::Error)]
pub enum AddressError {
    /// Every block tried is held by another server.
    #[error("no free block of loopback addresses (127.B.0.0/16) after {CLAIM_ATTEMPTS} tries; is this Linux?")]
    NoFreeBlock,
    /// Every address of the block is in use.
    #[error("every address of 127.{0}.0.0/16 is in use")]
    BlockFull(u8),
}

/// This server's block of addresses, claimed for as long as it lives.
#[derive(Debug)]
pub struct AddressBlock {
    second_octet: u8,
    /// Held open so another server can't take the same block.
    _claim: TcpListener,
}

impl AddressBlock {
    /// Claims `127.{remembered}.0.0/16` if given and free, else a free block
    /// picked at random. Returns the block; its second octet is what to
    /// remember for the next start.
    pub fn claim(remembered: Option<u8>) -> Result<AddressBlock, AddressError> {
        let mut rng = rand::rng();
        let candidates = remembered
            .into_iter()
            .chain(std::iter::repeat_with(|| rng.random_range(1..=254u8)))
            .take(CLAIM_ATTEMPTS);
        for second_octet in candidates {
            if let Ok(claim) = TcpListener::bind(socket(claim_address(second_octet))) {
                tracing::info!(block = %format!("127.{second_octet}.0.0/16"), "claimed the address block");
                return Ok(AddressBlock {
                    second_octet,
                    _claim: claim,
                });
            }
        }
        Err(AddressError::NoFreeBlock)
    }

    /// `B` of `127.B.0.0/16`.
    pub fn second_octet(&self) -> u8 {
        self.second_octet
    }

    /// Whether `addr` is in this block.
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        let [a, b, _, _] = addr.octets();
        a == 127 && b == self.second_octet
    }

    /// `n` addresses of the block that are not in `used` and that nothing
    /// on this machine listens on ([`is_free`]), lowest first.
    pub fn allocate(
        &self,
        used: &HashSet<Ipv4Addr>,
        n: usize,
    ) -> Result<Vec<Ipv4Addr>, AddressError> {
        let claim = claim_address(self.second_octet);
        let found: Vec<Ipv4Addr> = (0..=255u8)
            .flat_map(|c| (1..=254u8).map(move |d| (c, d)))
            .map(|(c, d)| Ipv4Addr::new(127, self.second_octet, c, d))
            .filter(|addr| *addr != claim && *addr != self.nowhere())
            .filter(|addr| !used.contains(addr) && is_free(*addr))
            .take(n)
            .collect();
        if found.len() < n {
            return Err(AddressError::BlockFull(self.second_octet));
        }
        Ok(found)
    }
}

/// The block's last address, which holds the claim.
fn claim_address(second_octet: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, second_octet, 255, 254)
}

impl AddressBlock {
    /// An address of the block that nothing ever listens on: a replica
    /// pointed there keeps its data and its replication history, and
    /// follows nobody (a cut link).
    pub fn nowhere(&self) -> Ipv4Addr {
        Ipv4Addr::new(127, self.second_octet, 255, 253)
    }
}

/// Whether nothing listens on `addr` at [`REDIS_PORT`] or [`TLS_PORT`]
/// now: a leftover node of a crashed server, say. (A look, not a
/// reservation: the caller's bind may still fail, and it then asks for
/// another address.)
///
/// It looks by connecting, never by binding: a probe that bound the
/// address, however briefly, would make a node's `CONFIG SET bind` of that
/// same address fail at that moment.
pub fn is_free(addr: Ipv4Addr) -> bool {
    [REDIS_PORT, TLS_PORT].into_iter().all(|port| {
        TcpStream::connect_timeout(&SocketAddr::from((addr, port)), PROBE_TIMEOUT).is_err()
    })
}

/// How long a probe waits for a listener to answer; on loopback, a refusal is immediate.
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(200);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_servers_take_different_blocks() {
        let a = AddressBlock::claim(None).unwrap();
        let b = AddressBlock::claim(Some(a.second_octet())).unwrap();
        assert_ne!(a.second_octet(), b.second_octet());
    }

    #[test]
    fn allocation_skips_used_and_bound_addresses() {
        let block = AddressBlock::claim(None).unwrap();
        let first = block.allocate(&HashSet::new(), 2).unwrap();
        assert!(first.iter().all(|a| block.contains(*a)));
        let _taken = TcpListener::bind(socket(first[1])).unwrap();
        let used: HashSet<Ipv4Addr> = [first[0]].into();
        let next = block.allocate(&used, 1).unwrap();
        assert!(!next.contains(&first[0]) && !next.contains(&first[1]));
    }
}
