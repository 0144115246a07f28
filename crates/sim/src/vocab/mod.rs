//! The vocabulary: plain data that every other part of the simulator speaks
//! (durations, link directions, NAT behaviours, the scenario's specs, the
//! interventions). It sits at the bottom of the crate and uses nothing
//! above it: the behaviour (links, NAT boxes, the trace), the scenario file
//! reader and the world are built on it.
//!
//! Within this layer, too, each file uses only the ones listed before it.

pub mod check;
pub mod direction;
pub mod duration;
pub mod intervention;
pub mod nat;
pub mod reason;
pub mod settings;
pub mod shape;
pub mod spec;
