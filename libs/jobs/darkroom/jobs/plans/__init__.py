"""Plans: what each decision about a job writes, as pure functions of the job as it is now."""
