"""What several test files share: stores built by hand, crawls run as subprocesses against
the sandbox, scripted DNS and HTTP servers, generated pages. Test files import from here,
never from one another."""
