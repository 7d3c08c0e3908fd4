//! Tickets for the event stream.
//!
//! A browser's `EventSource` cannot send an `Authorization` header, and the
//! API token must never appear in a URL (URLs end up in logs and history).
//! So a client with the token asks for a ticket (`POST
//! /x-georep/events/ticket`) and opens the stream with it
//! (`GET /x-georep/events?ticket=…`). A ticket is random, lives
//! [`TICKET_TTL`], opens one stream and is then gone. Tickets are kept in
//! memory only: a restart voids them, and a client simply asks again.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

use crate::secrets::random_hex;

/// How long a ticket may wait to be used.
pub const TICKET_TTL: Duration = Duration::from_secs(30);
/// The most unused tickets kept; asking for more drops the oldest.
const MAX_OUTSTANDING: usize = 256;

/// A ticket handed to a client.
#[derive(Clone)]
pub struct Ticket(String);

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ticket(…)")
    }
}

impl Ticket {
    /// The ticket's text, for the response that hands it out (and nowhere else).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

struct Issued {
    secret: String,
    expires: Instant,
}

/// The tickets handed out and not used yet.
pub struct Tickets {
    ttl: Duration,
    issued: Mutex<Vec<Issued>>,
}

impl Default for Tickets {
    fn default() -> Self {
        Self::new()
    }
}

impl Tickets {
    /// No tickets yet; each one lives [`TICKET_TTL`].
    pub fn new() -> Tickets {
        Tickets::with_ttl(TICKET_TTL)
    }

    /// No tickets yet; each one lives `ttl`.
    pub fn with_ttl(ttl: Duration) -> Tickets {
        Tickets {
            ttl,
            issued: Mutex::new(Vec::new()),
        }
    }

    /// A new single-use ticket, valid for the tickets' lifetime.
    pub fn issue(&self) -> Ticket {
        let secret = random_hex(32);
        let now = Instant::now();
        let mut issued = self.guard();
        issued.retain(|t| t.expires > now);
        if issued.len() >= MAX_OUTSTANDING {
            issued.remove(0);
        }
        issued.push(Issued {
            secret: secret.clone(),
            expires: now + self.ttl,
        });
        Ticket(secret)
    }

    /// Uses up `candidate`: true once for a ticket issued less than its
    /// lifetime ago, false for anything else. Compared in constant time.
    pub fn redeem(&self, candidate: &str) -> bool {
        let now = Instant::now();
        let mut issued = self.guard();
        issued.retain(|t| t.expires > now);
        let found = issued
            .iter()
            .position(|t| bool::from(t.secret.as_bytes().ct_eq(candidate.as_bytes())));
        match found {
            Some(i) => {
                issued.swap_remove(i);
                true
            }
            None => false,
        }
    }

    fn guard(&self) -> MutexGuard<'_, Vec<Issued>> {
        // Every change is a single push or remove: a panic elsewhere leaves
        // the list consistent.
        self.issued.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_opens_once() {
        let tickets = Tickets::new();
        let ticket = tickets.issue();
        assert_eq!(ticket.expose().len(), 64);
        assert!(!tickets.redeem("nope"));
        assert!(!tickets.redeem(""));
        assert!(tickets.redeem(ticket.expose()));
        assert!(!tickets.redeem(ticket.expose()));
    }

    #[test]
    fn a_ticket_expires() {
        let tickets = Tickets::with_ttl(Duration::from_millis(1));
        let ticket = tickets.issue();
        std::thread::sleep(Duration::from_millis(5));
        assert!(!tickets.redeem(ticket.expose()));
    }

    #[test]
    fn old_tickets_make_room_for_new_ones() {
        let tickets = Tickets::new();
        let first = tickets.issue();
        let rest: Vec<Ticket> = (0..MAX_OUTSTANDING).map(|_| tickets.issue()).collect();
        assert!(!tickets.redeem(first.expose()));
        assert!(rest.iter().all(|t| tickets.redeem(t.expose())));
    }

    #[test]
    fn debug_output_hides_the_ticket() {
        let ticket = Tickets::new().issue();
        assert_eq!(format!("{ticket:?}"), "Ticket(…)");
    }
}
