"""Each analysis page's verdict: what imputation changed there, in words written from the page's own numbers.

One module per page (``scmaskgan.verdicts.<page>``), each with a ``verdict(...)`` that takes the page's
metrics and returns markdown: a few sentences that say what imputation changed, whether it helped the
page's question, with the numbers (negative results included), and how the default compares with the
other methods on that page. :mod:`scmaskgan.verdicts.text` holds the wording they share.
"""
