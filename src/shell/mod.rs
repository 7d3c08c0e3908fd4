//! The frame around every page: the top bar, the navigation and the banner
//! shown while the backend is unreachable.

pub mod backend_banner;
pub mod header;
pub mod nav;
