//! The geo-replication features, built from [`crate::components`] and used
//! by [`crate::pages`]. Each module does one job and is styled by its file in
//! `styles/features/`.

pub mod cache_commands;
pub mod candidates;
pub mod drills;
pub mod endpoints;
pub mod failover;
pub mod health;
pub mod link_actions;
pub mod link_wizard;
pub mod live;
pub mod nodes;
pub mod primary_lost;
pub mod region_map;
pub mod timeline;
