//! UI primitives: small pieces that know nothing about caches or links and
//! are styled by `styles/components/`.

pub mod card;
pub mod copy_button;
pub mod dialog;
pub mod each;
pub mod guarded_button;
pub mod notice;
pub mod reactive;
pub mod show;
pub mod sparkline;
pub mod status;
pub mod windowed;
