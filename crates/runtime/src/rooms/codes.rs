//! Random names: the short, readable, unguessable code a created room gets
//! when none is asked for, and the seat tokens of reservations.

/// Crockford's base32 alphabet: digits and capitals without I, L, O and U,
/// so nothing reads as another symbol (or spells much).
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A room code: 40 random bits as 8 symbols of [`ALPHABET`], shown as
/// `XXXX-XXXX` (a valid room name).
pub fn room_code() -> String {
    let mut bytes = [0u8; 5];
    getrandom::fill(&mut bytes).expect("the operating system has randomness");
    code_from(bytes)
}

fn code_from(bytes: [u8; 5]) -> String {
    let bits = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    let mut code = String::with_capacity(9);
    for i in 0..8 {
        if i == 4 {
            code.push('-');
        }
        let symbol = (bits >> (35 - 5 * i)) & 0x1f;
        code.push(char::from(ALPHABET[symbol as usize]));
    }
    code
}

/// A seat token: 128 random bits, hex-encoded.
pub fn seat_token() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system has randomness");
    hex::encode(bytes)
}

/// Whether `code` has the shape [`room_code`] makes.
#[cfg(test)]
fn is_room_code(code: &str) -> bool {
    code.len() == 9
        && code.bytes().enumerate().all(|(i, b)| {
            if i == 4 {
                b == b'-'
            } else {
                ALPHABET.contains(&b)
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_use_every_bit_and_the_alphabet_only() {
        assert_eq!(code_from([0; 5]), "0000-0000");
        assert_eq!(code_from([0xff; 5]), "ZZZZ-ZZZZ");
        // 0b00001_00010_00011_00100_00101_00110_00111_01000
        assert_eq!(code_from([0x08, 0x86, 0x42, 0x98, 0xe8]), "1234-5678");
        for _ in 0..1000 {
            let code = room_code();
            assert!(is_room_code(&code), "{code}");
            assert!(crate::rooms::valid_room_name(&code), "{code}");
        }
    }

    #[test]
    fn seat_tokens_differ() {
        let a = seat_token();
        assert_eq!(a.len(), 32);
        assert_ne!(a, seat_token());
    }
}
