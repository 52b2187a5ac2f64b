export { EventBus, eventBus, busEvent, invokeHandler, type BusEvent, type BusHandler, type PayloadMap, type EventBusInit } from './bus.js'
