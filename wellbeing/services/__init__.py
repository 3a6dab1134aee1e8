"""The wellbeing app by area: surveys (check-ins, WHO-5, support), exposure (time, breaks,
caps, opt-outs) and lead (aggregates of five or more people)."""
