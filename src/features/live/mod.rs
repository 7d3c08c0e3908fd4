//! Keeping what the console shows current: the fleet's polling, the server's
//! event stream, and a ticker for views that refetch on a period.

pub mod events;
pub mod fleet_sync;
pub mod ticker;
