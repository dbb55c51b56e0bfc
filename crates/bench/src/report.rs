//! What `lodge-bench rooms` prints: the setting, then one row per target and their ratios.

use crate::load::{Load, Outcome};
use crate::output::table;

/// One target's results.
pub struct Row {
    pub target: &'static str,
    pub outcome: Outcome,
}

/// The command line, the machine and the load, printed before running.
pub fn header(as_run: &str, load: &Load) {
    let argv: Vec<String> = std::env::args().collect();
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    println!("lodge-bench rooms: the chat example on Lodge vs a native Rust chat server");
    println!("command:  {}", argv.join(" "));
    println!("as run:   {as_run}");
    println!(
        "machine:  {cores} cores; the load generator and the server under test share them \
         (one process; the targets run one after the other)"
    );
    let per_room = if load.members.is_multiple_of(load.rooms) {
        format!("{} per room", load.members / load.rooms)
    } else {
        format!("up to {} per room", load.largest_room())
    };
    let sending = if load.saturate {
        format!(
            "each member sends as fast as its echoes return, {} in flight",
            load.window
        )
    } else {
        format!("each member sends {} msg/s with jitter", load.rate)
    };
    println!(
        "load:     {} members in {} rooms ({per_room}); {sending}; {} s warm-up, {} s measured",
        load.members,
        load.rooms,
        load.warmup.as_secs(),
        load.duration.as_secs()
    );
    println!();
}

/// The results table, the Lodge/native ratios and why members dropped.
pub fn results(load: &Load, rows: &[Row]) {
    results_noting(
        load,
        rows,
        "cpu: the whole process (load generator included) during the window.",
    );
}

/// [`results`], saying whose CPU the cpu column measured.
pub fn results_noting(load: &Load, rows: &[Row], cpu_note: &str) {
    println!();
    let header = [
        "target",
        "members",
        "rooms",
        "offered msg/s",
        "delivered msg/s",
        "expected",
        "delivered",
        "%",
        "p50 ms",
        "p99 ms",
        "max ms",
        "cpu cores",
        "dropped",
    ];
    let cells: Vec<Vec<String>> = rows.iter().map(|row| cells(load, row)).collect();
    table(&header, &cells);
    println!();
    println!(
        "offered: messages members sent per second; delivered: receipts per second \
         (each message reaches every member of its room, sender included);"
    );
    println!("expected = sent × room size; latency: send to receipt, same clock; {cpu_note}");
    ratios(rows);
    for row in rows {
        if let Some(reason) = &row.outcome.first_drop {
            println!(
                "{}: {} members dropped; the first: {reason}",
                row.target, row.outcome.dropped
            );
        }
    }
}

fn cells(load: &Load, row: &Row) -> Vec<String> {
    let o = &row.outcome;
    let seconds = o.window.as_secs_f64();
    vec![
        row.target.to_owned(),
        load.members.to_string(),
        load.rooms.to_string(),
        format!("{:.0}", o.sent as f64 / seconds),
        format!("{:.0}", o.delivered as f64 / seconds),
        o.expected.to_string(),
        o.delivered.to_string(),
        format!("{:.2}", percent(o.delivered, o.expected)),
        millis(percentile(&o.latencies_us, 0.50)),
        millis(percentile(&o.latencies_us, 0.99)),
        millis(o.latencies_us.last().copied()),
        o.cpu_cores.map_or("-".to_owned(), |c| format!("{c:.2}")),
        o.dropped.to_string(),
    ]
}

fn ratios(rows: &[Row]) {
    let find = |name| {
        rows.iter()
            .find(|r| r.target == name)
            .map(|r| (r.target, &r.outcome))
    };
    let (Some((_, lodge)), Some((native_name, native))) = (find("lodge"), find("native")) else {
        return;
    };
    let throughput = ratio(lodge.delivered as f64, native.delivered as f64);
    let p99 = ratio(
        percentile(&lodge.latencies_us, 0.99).map_or(f64::NAN, f64::from),
        percentile(&native.latencies_us, 0.99).map_or(f64::NAN, f64::from),
    );
    println!("lodge/{native_name}: delivered msg/s {throughput}, p99 latency {p99}");
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 && a.is_finite() && b.is_finite() {
        format!("{:.2}×", a / b)
    } else {
        "-".to_owned()
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

/// The value at quantile `q` of sorted values (nearest rank).
fn percentile(sorted: &[u32], q: f64) -> Option<u32> {
    let last = sorted.len().checked_sub(1)?;
    let rank = (q * last as f64).round() as usize;
    sorted.get(rank.min(last)).copied()
}

fn millis(micros: Option<u32>) -> String {
    micros.map_or("-".to_owned(), |us| {
        format!("{:.2}", f64::from(us) / 1000.0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let values: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&values, 0.5), Some(51));
        assert_eq!(percentile(&values, 0.99), Some(99));
        assert_eq!(percentile(&values, 1.0), Some(100));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
