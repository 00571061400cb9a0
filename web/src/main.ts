// Entry point: styles, the root component, mounted on #app.
import { createApp } from 'vue';
import App from './App.vue';
import './styles/theme.css';

createApp(App).mount('#app');
