//! End-to-end tests: the real `lodge` binary, as a server process on an
//! ephemeral loopback port and as the CLI, with example components built
//! from source by the test setup.

mod support;

mod accounts;
mod assets;
mod auth;
mod backends;
mod bad_bundles;
mod capabilities;
mod cluster;
mod compile_bombs;
mod deploy;
mod dev;
mod durability;
mod full_disk;
mod hardening;
mod hostile;
mod http;
mod identity;
mod lobby;
mod origin;
mod outbound;
mod party;
mod properties;
mod reads;
mod reconnect;
mod registry;
mod regression;
mod room_create;
mod rooms;
mod snake;
mod tls;
mod upgrade;
mod wasm4;
