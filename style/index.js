import './base.css';
import './registry.css';
