#!/usr/bin/env bash
# Regenerates the committed speech fixtures from their reference texts (*.txt).
# Needs espeak-ng with the non-free mbrola voices mb-nl2 / mb-nl3, sox and ffmpeg with libopus.
# CI does not have mbrola, so the .opus outputs are committed; run this only to change them.
# Usage: tests/data/speech/make_clips.sh
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 16 kHz mono Opus at 24 kbit/s: small enough to commit, clean enough for Whisper.
encode() { ffmpeg -nostdin -loglevel error -y -i "$1" -ac 1 -ar 16000 -c:a libopus -b:a 24k "$2"; }
# Speech from a reference text; resampled to 16 kHz mono so sox can join it with noise.
speak() { # voice text_file out_wav
    espeak-ng -v "$1" -s 150 -w "$tmp/raw.wav" -f "$2"
    sox "$tmp/raw.wav" -r 16000 -c 1 "$3"
}

# (a) Dutch speech with the project's vocabulary, one male and one female voice.
speak mb-nl2 nl_voorst.txt "$tmp/voorst.wav"
encode "$tmp/voorst.wav" nl_voorst.opus
speak mb-nl3 nl_kernen.txt "$tmp/kernen.wav"
encode "$tmp/kernen.wav" nl_kernen.opus

# (b) 20 s of digital silence: Whisper's classic hallucination trigger.
sox -n -r 16000 -c 1 "$tmp/silence.wav" trim 0 20
encode "$tmp/silence.wav" silence_20s.opus

# (c) a short sentence, then 10 s of quiet pink noise: the "Bedankt voor het kijken" ending.
speak mb-nl2 nl_staart.txt "$tmp/staart.wav"
sox -n -r 16000 -c 1 "$tmp/noise.wav" synth 10 pinknoise vol 0.02
sox "$tmp/staart.wav" "$tmp/noise.wav" "$tmp/staart_noise.wav"
encode "$tmp/staart_noise.wav" nl_staart_ruis.opus
