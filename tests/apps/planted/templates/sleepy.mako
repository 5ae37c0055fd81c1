<% nap(seconds) %>slept in the template
