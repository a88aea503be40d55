"""Stage 2, transcribe: takes episodes and the transcription settings; gives a
`model.Transcript` per episode (words, times, speakers, guard flags), kept in transcripts/.

stage (what is new or changed, and `wijk transcribe`), recognise (one file: engine, guards,
glossary), engines/ (faster-whisper and openai-whisper behind one protocol), weights (the
embedded Whisper base), guards (hallucinations flagged), glossary (project names spelt right),
diarize (who speaks when), workers (several episodes at once, locally or on Dask).
"""
