//! The page's components, one a file. Each takes only what it reads (a few
//! values, or the session handle with the version or trace stamp that says
//! when it changed) so yew skips the ones whose props did not change, and
//! memoises what it derives from the session.

pub mod app;
mod byte_view;
mod chart;
mod chart_toolbar;
mod compare_menu;
mod compare_view;
mod description;
mod drag;
mod editor;
mod element_menu;
mod export_menu;
mod group_table;
mod header;
mod inspector;
mod lessons;
mod narration;
mod nat_panels;
mod notices;
pub mod open_file;
mod print_view;
mod restore;
mod row_window;
mod rule_refs;
mod state_panel;
mod state_panels;
mod timeline;
mod toolbar;
mod topo_group;
mod topo_host;
mod topo_link;
mod topo_nat;
mod topology;
mod traffic;
