//! Real backing servers for Lodge's tests: PostgreSQL, Redis and an
//! S3-compatible object store, each started on a free loopback port in a
//! temp folder of its own, and a TCP proxy the test can cut.
//!
//! Every server runs as a child of the test process under
//! `setpriv --pdeathsig`, so it stops by itself when the test ends, however
//! it ends (a panic, a timeout, a SIGKILL of the test binary).
//! `scripts/test` installs what they need; a missing tool is a panic that
//! says how to install it.

mod postgres;
mod process;
mod proxy;
mod redis;
mod s3;
mod tls;

pub use postgres::Postgres;
pub use process::free_port;
pub use proxy::Proxy;
pub use redis::Redis;
pub use s3::S3;
pub use tls::self_signed;
