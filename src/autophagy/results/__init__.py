"""Reading a finished or running folder: :class:`~autophagy.results.run.Run` (tables,
summaries with Student-t intervals), plots, sample pictures, exports, the HTML report.

Imports ``storage`` and below; it never runs a loop.
"""
