//! Small, reusable pieces of the console's UI.

pub mod backend_banner;
pub mod candidates;
pub mod dialog;
pub mod endpoints;
pub mod fleet_sync;
pub mod guarded_button;
pub mod header;
pub mod health;
pub mod link_actions;
pub mod link_wizard;
pub mod live_events;
pub mod nav;
pub mod notice;
pub mod region_map;
pub mod sparkline;
pub mod status;
pub mod ticker;
