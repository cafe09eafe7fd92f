import './app.css';
import { mount } from 'svelte';
import App from './App.svelte';
import { app } from './lib/app.svelte';
import { inDesktopApp } from './lib/backend';

if (inDesktopApp()) await app.attachDesktop();
app.start();
const target = document.getElementById('app');
if (target === null) throw new Error('#app missing from index.html');
export default mount(App, { target });
