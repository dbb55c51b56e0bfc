//! What a guest fault was, in words an author can act on: the trap's own
//! cause (a stack overflow says so), never wasmtime's backtrace header.

/// A fault's kind (for `lodge_guest_traps_total{reason}`) and a one-line
/// reason for close frames, error answers and the app's log.
pub(crate) fn describe(e: &wasmtime::Error) -> (&'static str, String) {
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::StackOverflow) => (
            "stack_overflow",
            "stack overflow: calls nested deeper than the call stack allows (endless recursion?)"
                .into(),
        ),
        Some(trap) => ("trap", trap.to_string()),
        None => ("trap", first_lines(e)),
    }
}

/// The error's chain on one line, each cause's first line, leaving out the
/// multi-line wasm backtrace wasmtime wraps around a fault.
fn first_lines(e: &wasmtime::Error) -> String {
    let parts: Vec<String> = e
        .chain()
        .filter_map(|cause| {
            let text = cause.to_string();
            let line = text.lines().next().unwrap_or_default().trim();
            (!line.is_empty() && !line.starts_with("error while executing at wasm backtrace"))
                .then(|| line.to_owned())
        })
        .collect();
    if parts.is_empty() {
        "unknown error".into()
    } else {
        parts.join(": ")
    }
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn a_trap_keeps_its_cause_and_a_stack_overflow_says_so() {
        let overflow = wasmtime::Error::from(wasmtime::Trap::StackOverflow)
            .context("error while executing at wasm backtrace:\n    0: 0x1234 - guest!f");
        let (kind, reason) = describe(&overflow);
        assert_eq!(kind, "stack_overflow");
        assert!(reason.starts_with("stack overflow"), "{reason}");

        let unreachable = wasmtime::Error::from(wasmtime::Trap::UnreachableCodeReached)
            .context("error while executing at wasm backtrace:\n    0: 0x1234 - guest!f");
        assert_eq!(
            describe(&unreachable),
            (
                "trap",
                "wasm trap: wasm `unreachable` instruction executed".into()
            )
        );

        let host = wasmtime::Error::msg("the kv store is unavailable")
            .context("error while executing at wasm backtrace:\n    0: 0x1 - g");
        assert_eq!(describe(&host).1, "the kv store is unavailable");
    }
}
