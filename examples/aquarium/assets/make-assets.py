#!/usr/bin/env python3
"""Makes the aquarium's assets from nothing but this script (Python's
standard library, and `oggenc` from vorbis-tools for the music):

- sprites.png: the sprite sheet (fish in three colours with two tail frames,
  a bubble, a flake of food, seaweed), transparent where nothing is drawn;
- music.ogg: a gentle looping tune, synthesized here;
- blub.wav: the sound of a bubble.

Run it from anywhere; it writes beside itself. The files are committed, so
building the example never needs this script.
"""

import math
import os
import struct
import subprocess
import wave
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))

# ---- sprites.png -----------------------------------------------------------

# 16x8 fish, facing right; '.' is transparent, letters are colours.
FISH = [
    [
        "......bbbb......",
        "....bbbbbbbb..t.",
        "..bbbbbbbbbbbtt.",
        ".bwkbbbbbbbbbtt.",
        ".bbbbbbbbbbbbtt.",
        "..bbbbbbbbbbbtt.",
        "....bbbbbbbb..t.",
        "......bbbb......",
    ],
    [
        "......bbbb......",
        "....bbbbbbbb....",
        "..bbbbbbbbbbb.tt",
        ".bwkbbbbbbbbbtt.",
        ".bbbbbbbbbbbbtt.",
        "..bbbbbbbbbbb.tt",
        "....bbbbbbbb....",
        "......bbbb......",
    ],
]
BUBBLE = [".ww.", "w..w", "w..w", ".ww."]
FOOD = ["ff", "ff"]
WEED = [
    "...gg...", "..gg....", "..gg....", "...gg...", "....gg..", "....gg..",
    "...gg...", "..gg....", "..gg....", "...gg...", "....gg..", "....gg..",
    "...gg...", "..ggg...", ".ggggg..", "gggggggg",
]
FISH_COLOURS = [(255, 140, 0), (80, 160, 255), (240, 80, 160)]
COMMON = {
    "w": (235, 245, 255, 255),
    "k": (10, 10, 20, 255),
    "f": (200, 150, 60, 255),
    "g": (40, 170, 80, 255),
}


def sprite_sheet():
    """64x32 RGBA: row 0-7 fish in colour 0 (frames at x 0 and 16), rows
    8-15 colour 1, 16-23 colour 2; x 32: bubble (4x4), x 40: food (2x2),
    x 48: seaweed (8x16)."""
    width, height = 64, 32
    pixels = [[(0, 0, 0, 0)] * width for _ in range(height)]

    def put(art, ox, oy, palette):
        for y, row in enumerate(art):
            for x, ch in enumerate(row):
                if ch in palette:
                    pixels[oy + y][ox + x] = palette[ch]

    for c, (r, g, b) in enumerate(FISH_COLOURS):
        palette = dict(COMMON)
        palette["b"] = (r, g, b, 255)
        palette["t"] = (r * 3 // 4, g * 3 // 4, b * 3 // 4, 255)
        for frame, art in enumerate(FISH):
            put(art, frame * 16, c * 8, palette)
    put(BUBBLE, 32, 0, COMMON)
    put(FOOD, 40, 0, COMMON)
    put(WEED, 48, 0, COMMON)
    return width, height, pixels


def write_png(path, width, height, pixels):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    raw = b"".join(b"\0" + bytes(v for px in row for v in px) for row in pixels)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


# ---- sounds ------------------------------------------------------------------

RATE = 22050


def write_wav(path, samples):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(b"".join(struct.pack("<h", int(max(-1, min(1, s)) * 30000)) for s in samples))


def blub():
    """A bubble: a sine sweeping up, fading out, 0.25 s."""
    out, phase = [], 0.0
    n = int(RATE * 0.25)
    for i in range(n):
        t = i / n
        phase += 2 * math.pi * (300 + 900 * t * t) / RATE
        out.append(math.sin(phase) * (1 - t) ** 2 * 0.8)
    return out


def music():
    """Eight bars at 90 beats a minute in A minor: a triangle bass on each
    beat and a soft square melody of eighth notes. Loops seamlessly."""
    beat = 60 / 90
    bass = [45, 45, 41, 41, 43, 43, 40, 40]  # A A F F G G E E (MIDI), a bar each
    melody = [69, 72, 76, 72, 69, 72, 76, 79, 77, 76, 72, 69, 65, 69, 72, 77,
              79, 76, 74, 71, 67, 71, 74, 79, 76, 72, 71, 68, 64, 68, 71, 76]
    total = int(RATE * beat * 4 * len(bass))
    out = [0.0] * total
    freq = lambda note: 440 * 2 ** ((note - 69) / 12)

    def note(start, length, f, wave_fn, level):
        n0, n = int(start * RATE), int(length * RATE)
        for i in range(n):
            t = i / RATE
            env = min(1, i / 200) * max(0, 1 - i / n) ** 0.5
            out[(n0 + i) % total] += wave_fn(f * t) * env * level

    triangle = lambda x: 4 * abs((x % 1) - 0.5) - 1
    square = lambda x: 1 if (x % 1) < 0.5 else -1
    for bar, n in enumerate(bass):
        for b in range(4):
            note((bar * 4 + b) * beat, beat * 0.9, freq(n), triangle, 0.35)
    for i, n in enumerate(melody * 1):
        note(i * beat, beat * 0.45, freq(n), square, 0.08)
        note(i * beat + beat / 2, beat * 0.4, freq(n + 12 if i % 4 == 3 else n), square, 0.05)
    return out


def main():
    width, height, pixels = sprite_sheet()
    write_png(os.path.join(HERE, "sprites.png"), width, height, pixels)
    write_wav(os.path.join(HERE, "blub.wav"), blub())
    tune = os.path.join(HERE, "music.wav")
    write_wav(tune, music())
    subprocess.run(["oggenc", "--quiet", "-q", "1", "-o", os.path.join(HERE, "music.ogg"), tune], check=True)
    os.remove(tune)


if __name__ == "__main__":
    main()
