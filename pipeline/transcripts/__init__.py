"""The transcripts: the master JSON of every episode in transcripts/ and what is made from it.

store (masters, history, reading copies), corrections (an editor's edits taken back into the
master), writers (VTT, SRT, TXT and Podcasting 2.0 JSON), captions (cues cut from word
timings), caption_checks (the caption standards), caption_files (VTT and SRT read back).
"""
