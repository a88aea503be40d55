"""Stage 3, tag: takes transcripts (or plain text) and the taxonomy of cases and lessons; gives
`model.Tag`s, each with its time span, quoted words and score.

tagger (passages scored by cue patterns), matching (Dutch words normalised and matched),
taxonomy (+ taxonomy.yaml), stage (the archive's tags files), textstream (`wijk tag-text`).
"""
