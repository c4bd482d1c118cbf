#!/usr/bin/env python3
"""Writes an assembly file that embeds a file's bytes as a hidden symbol.

    embed_file.py OUTPUT.S SYMBOL INPUT

SYMBOL marks the first byte and SYMBOL_end the byte after the last. The
output is rewritten whenever the build runs this, so that its object is
rebuilt with the input (.incbin is not seen by dependency scanning)."""
import os
import sys

output, symbol, source = sys.argv[1:4]
path = os.path.abspath(source).replace('\\', '\\\\').replace('"', '\\"')
text = f"""\t.section .rodata
\t.balign 64
\t.globl {symbol}
\t.hidden {symbol}
{symbol}:
\t.incbin "{path}"
\t.globl {symbol}_end
\t.hidden {symbol}_end
{symbol}_end:
\t.section .note.GNU-stack,"",@progbits
"""
with open(output, 'w') as f:
    f.write(text)
