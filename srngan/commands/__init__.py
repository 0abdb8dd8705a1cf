"""Tool sub-commands of the ``srngan`` CLI (sample, export, evaluate); only ``srngan.cli`` imports them."""
