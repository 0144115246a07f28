//! A deterministic discrete-event network for the MOBIKE playground.
//!
//! Virtual time is an integer number of microseconds; the event queue orders
//! by (time, sequence number), so equal times keep the order they were
//! scheduled in. Every packet, drop (with its reason), NAT translation and
//! protocol event goes into the append-only [`trace::Trace`], the single
//! source of truth for every view. The [`scenario`] format (TOML) lives here.
//!
//! Links ([`link`]) carry each direction separately and may lose, duplicate
//! or delay packets, drawing only from per-link ChaCha20 streams of the
//! scenario seed; NAT boxes ([`nat`]) map, filter, time out, hairpin,
//! reboot and change address as RFC 4787 describes.
//!
//! The crate is layered, each layer using only those below it:
//!
//! 1. [`vocab`]: the data every part speaks (durations, directions, NAT
//!    behaviours, the scenario's specs, interventions);
//! 2. behaviour on that data: [`link`], [`nat`], [`trace`]; and the file
//!    reader [`scenario`];
//! 3. the world, which runs a scenario on them.
#![forbid(unsafe_code)]

pub mod vocab;

mod chunked;
pub mod link;
pub mod nat;
pub mod observed;
pub mod scenario;
pub mod shared;
pub mod trace;

mod world;

pub use vocab::duration;

pub use link::Direction;
pub use nat::{Filtering, MappingBehaviour, NatBehaviour, NatPreset, Permit};
pub use scenario::{Element, Place, Problem, Scenario, ScenarioError};
pub use trace::{Trace, TraceEvent, TraceKind};
pub use vocab::check::{InterventionCheck, InterventionError};
pub use vocab::intervention::{Description, Effect, HintKind, Ids, Intervention, MoveBy, Names};
pub use vocab::reason::{DropReason, MappingGone, NatRefusal};
pub use world::World;
pub use world::views::{
    AddressView, HostView, InterfaceView, LinkView, MappingView, NatView, WorldRead,
};
