"""Training and evaluating the classifier's weights (``isop classifier train/evaluate``).

``sources`` reads labelled sites from disk (labelled page folders, sandbox worlds) the way
the crawl reads pages; ``dataset`` reduces each site to its findings (cached); ``fit``
learns the logistic weights, the threshold and the category rule, and cross-validates
with whole sources left out; ``report`` measures verdicts against labels.
"""
