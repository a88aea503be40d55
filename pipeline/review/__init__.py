"""The editors' review app (`wijk review`): takes the archive's masters and media; gives
corrected masters, saved as a correction like any other, with their derived files and tags.

server (the local app and its routes), episodes (what the pages show), edits (an editor's
text taken into the master with word timings), saving (conflicts refused, history kept).
"""
