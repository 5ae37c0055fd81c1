<%inherit file="/base.mako"/>
<%def name="title()">Hello</%def>
<h1 class="greeting">${h.greeting(c.name)}</h1>
<p>The action's <code>name</code> argument arrived on tmpl_context as c.name = ${c.name}.</p>
<p>Next: ${h.link_to('page 2', url('page2'))}</p>
