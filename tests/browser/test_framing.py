"""Another site cannot show the portal in a frame (clickjacking; security review, point 11)."""


def test_another_site_cannot_frame_the_portal(anon_page, live_server):
    page = anon_page
    # A page of another origin (about:blank's) framing the login page and a portal page;
    # set_content returns once the frames have loaded or failed.
    page.set_content(f'<iframe src="{live_server.url}/login/"></iframe>'
                     f'<iframe src="{live_server.url}/password/forgot/"></iframe>')
    frames = page.frames[1:]
    assert len(frames) == 2
    for frame in frames:
        assert frame.locator("form").count() == 0, frame.url
    # The same page opened directly works: it is the framing that is refused.
    page.goto("/login/")
    assert page.locator('input[name="username"]').count() == 1
