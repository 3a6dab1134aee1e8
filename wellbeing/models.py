# Check-ins, exposure tracking, breaks and opt-outs arrive with the wellbeing issue.
