"""Lightning callbacks specific to ktlab."""
