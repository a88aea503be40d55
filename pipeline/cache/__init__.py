"""The build's memory between runs, so that a build redoes only what an input touched.

memo (what every output was made from, by key), fingerprint (the whole archive unchanged: no
stage runs), db (the SQLite tables both read by key), catalogue and listings (the episodes of
one build on disk, read back in each stage's order).
"""
