"""Stage 1, ingest: takes the files in episodes/ (media, sidecars) and the registry of
identities; gives an `Inventory` of `model.Episode`s with permanent slugs and GUIDs, and a
`Problem` for every file that can't be used.

scan (the stage), media (ffprobe and the audio hash), tags (what the file's own tags say),
identity (slugs, GUIDs and transcripts/registry.json), probecache (what ffmpeg learnt, by file
size and time), report (the table and JSON of `wijk ingest`).
"""
