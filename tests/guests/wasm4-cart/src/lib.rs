//! A WASM-4 cartridge for the browser tests, written against the public
//! WASM-4 API (its memory map and `env` functions): it sets a palette,
//! draws with every drawing function, moves a box with gamepad 1, shows
//! the mouse, plays a tone on button 1, and counts its runs on the disk.
#![no_std]
// WASM-4 fixes the palette at address 4, which clippy takes for a dangling pointer.
#![allow(clippy::manual_dangling_ptr)]

use core::panic::PanicInfo;

#[panic_handler]
fn panic(_: &PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

// The memory map.
const PALETTE: *mut [u32; 4] = 0x04 as *mut [u32; 4];
const DRAW_COLORS: *mut u16 = 0x14 as *mut u16;
const GAMEPAD1: *const u8 = 0x16 as *const u8;
const MOUSE_X: *const i16 = 0x1a as *const i16;
const MOUSE_Y: *const i16 = 0x1c as *const i16;
const MOUSE_BUTTONS: *const u8 = 0x1e as *const u8;
const FRAMEBUFFER: *mut u8 = 0xa0 as *mut u8;

const BUTTON_1: u8 = 1;
const BUTTON_2: u8 = 2;
const BUTTON_LEFT: u8 = 16;
const BUTTON_RIGHT: u8 = 32;
const BUTTON_UP: u8 = 64;
const BUTTON_DOWN: u8 = 128;
const MOUSE_LEFT: u8 = 1;

const BLIT_1BPP: u32 = 0;
const BLIT_FLIP_X: u32 = 2;

unsafe extern "C" {
    fn blit(sprite: *const u8, x: i32, y: i32, width: u32, height: u32, flags: u32);
    fn line(x1: i32, y1: i32, x2: i32, y2: i32);
    fn hline(x: i32, y: i32, len: u32);
    fn vline(x: i32, y: i32, len: u32);
    fn oval(x: i32, y: i32, width: u32, height: u32);
    fn rect(x: i32, y: i32, width: u32, height: u32);
    #[link_name = "textUtf8"]
    fn text_utf8(text: *const u8, byte_length: usize, x: i32, y: i32);
    fn tone(frequency: u32, duration: u32, volume: u32, flags: u32);
    fn diskr(dest: *mut u8, size: u32) -> u32;
    fn diskw(src: *const u8, size: u32) -> u32;
    fn tracef(format: *const u8, args: *const u8);
}

/// An 8×8 1bpp arrow pointing right.
const ARROW: [u8; 8] = [
    0b00010000, 0b00011000, 0b11111100, 0b11111110, 0b11111110, 0b11111100, 0b00011000, 0b00010000,
];

static mut BOX_X: i32 = 76;
static mut BOX_Y: i32 = 100;
static mut RUNS: u32 = 0;
static mut PREVIOUS: u8 = 0;
static mut TONES: u32 = 0;
static mut MOUSE_BEFORE: u8 = 0;

/// Traces `format` (NUL-terminated, with `%d`s) with the numbers `args`.
fn trace_numbers(format: &[u8], args: &[i32]) {
    unsafe { tracef(format.as_ptr(), args.as_ptr().cast()) }
}

fn text(s: &str, x: i32, y: i32) {
    unsafe { text_utf8(s.as_ptr(), s.len(), x, y) }
}

fn colors(c: u16) {
    unsafe { *DRAW_COLORS = c }
}

/// Writes `n` in decimal into `buf`, returning the digits.
fn decimal(mut n: u32, buf: &mut [u8; 10]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    core::str::from_utf8(&buf[i..]).unwrap_or("?")
}

#[unsafe(no_mangle)]
fn start() {
    unsafe {
        *PALETTE = [0x000000, 0xff0000, 0x00ff00, 0x0000ff];
        let mut runs = [0u8; 4];
        diskr(runs.as_mut_ptr(), 4);
        RUNS = u32::from_le_bytes(runs) + 1;
        diskw(RUNS.to_le_bytes().as_ptr(), 4);
        trace_numbers(b"cart started, run %d\0", &[RUNS as i32]);
    }
}

#[unsafe(no_mangle)]
fn update() {
    unsafe {
        let pad = *GAMEPAD1;
        let pressed = pad & !PREVIOUS;
        PREVIOUS = pad;
        if pad & BUTTON_LEFT != 0 {
            BOX_X -= 1;
        }
        if pad & BUTTON_RIGHT != 0 {
            BOX_X += 1;
        }
        if pad & BUTTON_UP != 0 {
            BOX_Y -= 1;
        }
        if pad & BUTTON_DOWN != 0 {
            BOX_Y += 1;
        }
        if pressed & BUTTON_1 != 0 {
            TONES += 1;
            // 262 Hz sliding to 523 Hz, 4 frames attack, 30 sustain, 10 release; pulse 50%.
            tone(262 | (523 << 16), (4 << 24) | 30 | (10 << 8), 80, 0b1000);
            trace_numbers(b"tone %d\0", &[TONES as i32]);
        }
        let mouse = *MOUSE_BUTTONS;
        if mouse & MOUSE_LEFT != 0 && MOUSE_BEFORE & MOUSE_LEFT == 0 {
            trace_numbers(
                b"click %d %d\0",
                &[i32::from(*MOUSE_X), i32::from(*MOUSE_Y)],
            );
        }
        MOUSE_BEFORE = mouse;

        // The top-left 10×10 pixels in colour 2 (red), written to the
        // framebuffer directly: 2 bits per pixel, leftmost in the low bits.
        for y in 0..10 {
            for x in 0..10usize {
                let i = y * 160 + x;
                let byte = FRAMEBUFFER.add(i / 4);
                let shift = (i % 4) * 2;
                *byte = (*byte & !(3 << shift)) | (1 << shift);
            }
        }
        // A green filled rectangle outlined in blue at (20, 0).
        colors(0x43);
        rect(20, 0, 20, 10);
        // A blue oval at (50, 0).
        colors(0x44);
        oval(50, 0, 20, 10);
        colors(0x2);
        line(0, 20, 159, 20);
        hline(0, 22, 160);
        vline(80, 24, 10);
        colors(0x20);
        blit(ARROW.as_ptr(), 0, 30, 8, 8, BLIT_1BPP);
        blit(ARROW.as_ptr(), 10, 30, 8, 8, BLIT_1BPP | BLIT_FLIP_X);

        colors(0x3);
        let mut buf = [0u8; 10];
        text("runs", 0, 50);
        text(decimal(RUNS, &mut buf), 40, 50);
        text("tones", 0, 60);
        text(decimal(TONES, &mut buf), 48, 60);
        if *MOUSE_BUTTONS & MOUSE_LEFT != 0 {
            text("click", 0, 70);
            text(decimal(*MOUSE_X as u32, &mut buf), 48, 70);
            text(decimal(*MOUSE_Y as u32, &mut buf), 80, 70);
        }
        if pad & BUTTON_2 != 0 {
            text("B", 150, 150);
        }
        // The box the gamepad moves: 8×8 in colour 4 (blue).
        colors(0x4);
        rect(BOX_X, BOX_Y, 8, 8);
    }
}
