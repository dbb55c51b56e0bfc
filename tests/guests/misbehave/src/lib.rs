//! A room that misbehaves on request, for fault-isolation tests:
//! `spin` loops forever, `grow` allocates until memory runs out, `hold MIB`
//! allocates MIB MiB and keeps it (answering `holding MIB`), `panic`
//! panics, `recurse` recurses until the call stack overflows, `flood N
//! SIZE` broadcasts N messages of SIZE bytes, `kick`
//! kicks the sender, `timer MS TAG` sets a timer that broadcasts
//! `timer: TAG`, `cancel TAG` cancels it; anything else is echoed to the
//! sender. Leaves are announced as `left: NAME`.

use lodge_sdk::{Member, MemberId, Message, Room, members, timers};
use std::collections::HashMap;
use std::time::Duration;

#[derive(Default)]
struct Misbehave {
    hoard: Vec<Vec<u8>>,
    timers: HashMap<String, timers::TimerId>,
}

impl Room for Misbehave {
    fn on_message(&mut self, from: MemberId, message: Message) {
        let text = message.as_text().unwrap_or_default().to_owned();
        let mut words = text.split_whitespace();
        match words.next() {
            Some("spin") => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            Some("grow") => loop {
                let chunk = vec![1u8; 1 << 20];
                self.hoard.push(std::hint::black_box(chunk));
            },
            Some("hold") => {
                let mib: usize = words.next().and_then(|w| w.parse().ok()).unwrap_or(1);
                self.hoard.push(std::hint::black_box(vec![1u8; mib << 20]));
                members::send(from, &Message::Text(format!("holding {mib}")));
            }
            Some("panic") => panic!("asked to panic"),
            Some("recurse") => {
                let depth = recurse(0, text.len() as u32);
                members::send(from, &Message::Text(depth.to_string()));
            }
            Some("flood") => {
                let count: usize = words.next().and_then(|w| w.parse().ok()).unwrap_or(1);
                let size: usize = words.next().and_then(|w| w.parse().ok()).unwrap_or(10);
                let body = "x".repeat(size);
                for _ in 0..count {
                    members::broadcast(&Message::Text(body.clone()));
                }
            }
            Some("kick") => members::kick(from, "asked for it"),
            Some("timer") => {
                let ms: u64 = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
                let tag = words.next().unwrap_or("tick").to_owned();
                if let Some(id) = timers::set(Duration::from_millis(ms), &tag) {
                    self.timers.insert(tag, id);
                }
            }
            Some("cancel") => {
                let tag = words.next().unwrap_or("tick");
                let cancelled = self.timers.remove(tag).is_some_and(timers::cancel);
                members::send(from, &Message::Text(format!("cancelled: {cancelled}")));
            }
            _ => members::send(from, &message),
        }
    }

    fn on_timer(&mut self, tag: &str) {
        self.timers.remove(tag);
        members::broadcast(&Message::Text(format!("timer: {tag}")));
    }

    fn on_leave(&mut self, member: &Member) {
        members::broadcast(&Message::Text(format!("left: {}", member.name)));
    }
}

/// Calls itself for ever; the work after the call keeps it from becoming a loop.
#[inline(never)]
fn recurse(depth: u32, seed: u32) -> u32 {
    if depth == u32::MAX && seed == 0x9e37_79b9 {
        return seed;
    }
    let next = seed.rotate_left(5) ^ depth;
    recurse(depth.wrapping_add(1), next).wrapping_mul(31) ^ next
}

lodge_sdk::export_room!(Misbehave);
