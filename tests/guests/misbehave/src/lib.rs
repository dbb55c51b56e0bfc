//! A room that misbehaves on request, for fault-isolation tests:
//! `spin` loops forever, `grow` allocates until memory runs out, `panic`
//! panics, `flood N SIZE` broadcasts N messages of SIZE bytes; anything else
//! is echoed to the sender.

use lodge_sdk::{MemberId, Message, Room, members};

#[derive(Default)]
struct Misbehave {
    hoard: Vec<Vec<u8>>,
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
            Some("panic") => panic!("asked to panic"),
            Some("flood") => {
                let count: usize = words.next().and_then(|w| w.parse().ok()).unwrap_or(1);
                let size: usize = words.next().and_then(|w| w.parse().ok()).unwrap_or(10);
                let body = "x".repeat(size);
                for _ in 0..count {
                    members::broadcast(&Message::Text(body.clone()));
                }
            }
            _ => members::send(from, &message),
        }
    }
}

lodge_sdk::export_room!(Misbehave);
