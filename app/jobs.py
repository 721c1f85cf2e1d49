"""APScheduler jobs. (Placeholder until the scheduler work lands in this session.)"""


def init_jobs(app):
    return None
