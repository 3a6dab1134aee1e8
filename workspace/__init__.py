"""The pages reviewers and leads work in, where the review workflow meets agreement and wellbeing."""
