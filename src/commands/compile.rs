//! `lodge __compile` (hidden): compiles one uploaded component for the
//! server that started it, with bounded memory and CPU time. The server
//! writes the component to stdin and reads the compiled code from stdout.

use lodge_server::{CompileChild, compile_child};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The server's engine key; the compiled code must load there.
    #[arg(long)]
    engine_key: String,
    /// Memory the compile may use, in bytes.
    #[arg(long)]
    memory_bytes: u64,
    /// CPU time the compile may use, in seconds.
    #[arg(long)]
    cpu_secs: u64,
    /// The server's largest linear memory, in bytes (an engine setting).
    #[arg(long)]
    max_memory_bytes: u64,
}

pub fn run(args: Args) -> ExitCode {
    let request = CompileChild {
        engine_key: args.engine_key,
        memory_bytes: args.memory_bytes,
        cpu_secs: args.cpu_secs,
        max_memory_bytes: args.max_memory_bytes,
    };
    let code = compile_child(&request, std::io::stdin().lock(), std::io::stdout().lock());
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
