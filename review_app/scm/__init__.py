"""The Standard Cost Model (SCM): what complying with a requirement costs businesses a year.

``compute`` is the pure arithmetic; ``costs`` answers "which annual cost do the reports use"
(``costs.reported_cost``) and sums it; ``service`` keeps the tariffs and recomputes stored costs;
``panel`` is what the requirement page shows.
"""
